{{/*
Helpers of the case-event-handler chart.

Every per-flavor template ranges once over "ceh.flavors", which yields the
enabled flavors with their effective settings (values' `defaults` merged with
the flavor's own entry), so that merging and `enabled` are decided here only.
*/}}

{{/* The chart name, e.g. for the app.kubernetes.io/name label. */}}
{{- define "ceh.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's base name: `<release>-case-event-handler`, or the release name when it contains the chart name. */}}
{{- define "ceh.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The name of one flavor's objects (Deployment, Service, PodDisruptionBudget):
`<fullname>-<flavor>`. Fails instead of truncating, so two flavors can never
end up with the same name. Call with (list $ $flavorName).
*/}}
{{- define "ceh.flavorFullname" -}}
{{- $root := index . 0 }}
{{- $name := printf "%s-%s" (include "ceh.fullname" $root) (index . 1) }}
{{- if gt (len $name) 63 }}
{{- fail (printf "object name %q is longer than 63 characters: shorten the release name or set fullnameOverride" $name) }}
{{- end }}
{{- $name }}
{{- end }}

{{/* The ConfigMap holding base.yaml and the environment file. */}}
{{- define "ceh.baseConfigName" -}}
{{- printf "%s-config" (include "ceh.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The ServiceAccount the pods run as. */}}
{{- define "ceh.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ceh.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Kubernetes recommended labels shared by every object of the release. */}}
{{- define "ceh.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "ceh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ default .Chart.AppVersion .Values.image.tag | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/part-of: {{ .Values.partOf }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels selecting the release's pods (all flavors). */}}
{{- define "ceh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ceh.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one flavor's objects; the flavor is the component. Call with (list $ $flavorName). */}}
{{- define "ceh.flavorLabels" -}}
{{ include "ceh.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Labels selecting one flavor's pods. Call with (list $ $flavorName). */}}
{{- define "ceh.flavorSelectorLabels" -}}
{{ include "ceh.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/*
Deep merge of two maps, as YAML: keys of `src` win over `dst`, nested maps are
merged key by key, lists and scalars are replaced (the service merges its config
layers the same way). Unlike sprig's mergeOverwrite, false, 0 and "" in `src`
do override: `enabled: false` or `replicas: 0` must win over the defaults.
Call with (dict "dst" $defaults "src" $overrides) and read with fromYaml.
*/}}
{{- define "ceh.deepMerge" -}}
{{- $out := deepCopy (default dict .dst) }}
{{- range $key, $value := (default dict .src) }}
{{- $current := get $out $key }}
{{- if and (kindIs "map" $value) (kindIs "map" $current) }}
{{- $_ := set $out $key (include "ceh.deepMerge" (dict "dst" $current "src" $value) | fromYaml) }}
{{- else }}
{{- $_ := set $out $key $value }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/*
The enabled flavors, as a YAML map of flavor name -> effective settings
(`defaults` deep-merged with the flavor's entry). Read with
  {{- range $name, $f := include "ceh.flavors" . | fromYaml }}
*/}}
{{- define "ceh.flavors" -}}
{{- $out := dict }}
{{- range $name, $entry := .Values.flavors }}
{{- if not (regexMatch "^[a-z][a-z-]*$" $name) }}
{{- fail (printf "flavors.%s: flavor names are lowercase letters and dashes, as in `case-event-handler flavors`" $name) }}
{{- end }}
{{- $f := include "ceh.deepMerge" (dict "dst" $.Values.defaults "src" $entry) | fromYaml }}
{{- if $f.enabled }}
{{- $_ := set $out $name $f }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* The container image reference. */}}
{{- define "ceh.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where the configuration volume is mounted; --config-dir points here. */}}
{{- define "ceh.configDir" -}}
/etc/case-event-handler
{{- end }}

{{/* The base configuration files: files/config/ holds symlinks to the repository's config/ (helm logs "found symbolic link" and reads them). */}}
{{- define "ceh.baseConfigFiles" -}}
{{- $env := printf "files/config/%s.yaml" .Values.environment }}
{{- if not (.Files.Get $env) }}
{{- fail (printf "environment %q: the chart has no %s (only base.yaml and production.yaml are shipped)" .Values.environment $env) }}
{{- end -}}
base.yaml: |-
{{ .Files.Get "files/config/base.yaml" | trimSuffix "\n" | indent 2 }}
{{ .Values.environment }}.yaml: |-
{{ .Files.Get $env | trimSuffix "\n" | indent 2 }}
{{- end }}

{{/*
One flavor's config overlay file (passed with --config): `defaults.config` and
the flavor's `config`, already deep-merged by "ceh.flavors". Call with the
effective flavor settings.
*/}}
{{- define "ceh.overlayConfig" -}}
{{- if .config }}
{{- toYaml .config }}
{{- else -}}
{}
{{- end }}
{{- end }}
