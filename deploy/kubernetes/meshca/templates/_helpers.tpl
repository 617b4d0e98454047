{{/* Names: <release>-meshca, or the release name alone when it already contains "meshca". */}}
{{- define "meshca.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "meshca.globalName" -}}{{ include "meshca.fullname" . }}-global{{- end -}}
{{- define "meshca.zoneName" -}}{{ include "meshca.fullname" . }}-zone{{- end -}}
{{- define "meshca.redisName" -}}{{ include "meshca.fullname" . }}-redis{{- end -}}

{{/* Selector labels of one component; call with (dict "ctx" $ "component" "global"). */}}
{{- define "meshca.selectorLabels" -}}
app.kubernetes.io/name: {{ .ctx.Chart.Name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "meshca.labels" -}}
{{ include "meshca.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: meshca
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "meshca.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Global's store URL: the value, else the chart's Redis, else memory. */}}
{{- define "meshca.globalStore" -}}
{{- if .Values.global.store -}}
{{- .Values.global.store -}}
{{- else if .Values.redis.enabled -}}
{{- printf "redis://%s:6379/0" (include "meshca.redisName" .) -}}
{{- else -}}
memory
{{- end -}}
{{- end -}}

{{/* The DNS names of a Service and the extra names, as a JSON list for --tls-san; call with
(dict "ctx" $ "service" NAME "extra" LIST). */}}
{{- define "meshca.tlsSans" -}}
{{- $ns := .ctx.Release.Namespace -}}
{{- $names := list .service (printf "%s.%s" .service $ns) (printf "%s.%s.svc" .service $ns) (printf "%s.%s.svc.%s" .service $ns .ctx.Values.clusterDomain) -}}
{{- concat $names (.extra | default list) | uniq | toJson -}}
{{- end -}}

{{/* The zone's store: a Redis URL gets ?prefix=<zone>: so that zones can share one Redis. */}}
{{- define "meshca.zoneStore" -}}
{{- $store := .Values.zone.store | default "memory" -}}
{{- if and (hasPrefix "redis" $store) (not (contains "prefix=" $store)) -}}
{{- printf "%s%sprefix=%s:" $store (ternary "&" "?" (contains "?" $store)) .Values.zone.name -}}
{{- else -}}
{{- $store -}}
{{- end -}}
{{- end -}}

{{/* Global's sync address for the zone: the value, else global's Service in this release. */}}
{{- define "meshca.zoneGlobalAddress" -}}
{{- if .Values.zone.globalAddress -}}
{{- .Values.zone.globalAddress -}}
{{- else if .Values.global.enabled -}}
{{- printf "wss://%s.%s.svc:%v" (include "meshca.globalName" .) .Release.Namespace .Values.global.service.syncPort -}}
{{- else -}}
{{- fail "zone.globalAddress is required when global is not in this release: wss://<global's sync address>:5685" -}}
{{- end -}}
{{- end -}}
