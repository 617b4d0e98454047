#!/usr/bin/env bash
# kubernetes-validate (deploy/kubernetes/verify.sh checks every manifest the Helm chart renders
# against the Kubernetes schemas it ships) into .venv/kubernetes-validate when missing.
# 1.x: the schemas it bundles go up to the Kubernetes version of its own minor (1.37 ships 1.37).
exec bash "$(dirname "${BASH_SOURCE[0]}")/pip-tool.sh" kubernetes-validate 'kubernetes-validate>=1.30,<2' kubernetes-validate --version
