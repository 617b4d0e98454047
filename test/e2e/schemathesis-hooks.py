# Hooks for the schemathesis run of test/e2e/schemathesis.test.ts (loaded through SCHEMATHESIS_HOOKS).
import schemathesis


@schemathesis.hook
def map_case(context, case):
    """A PUT's path and body must name the same resource (400 otherwise, which the spec cannot say):
    give a generated body the names of its path, so generated resources reach the apply logic.
    A name the generator made invalid on purpose (not text) is left as it is."""
    if str(case.method).upper() == "PUT" and isinstance(case.body, dict) and case.path_parameters:
        for key in ("name", "mesh"):
            if key in case.path_parameters and isinstance(case.body.get(key), str):
                case.body[key] = case.path_parameters[key]
    return case
