{{/*
Chart name, truncated to 63 characters (a label value's limit).
*/}}
{{- define "sora-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: <release>-<chart>, or the release name when it already contains the chart
name. Cluster-scoped objects (ClusterRole, bindings) carry it too, so two releases
in different namespaces need different release names.
*/}}
{{- define "sora-operator.fullname" -}}
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

{{- define "sora-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Recommended labels on every object.
*/}}
{{- define "sora-operator.labels" -}}
helm.sh/chart: {{ include "sora-operator.chart" . }}
{{ include "sora-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: sora
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels: name and instance only (a Deployment's selector is immutable).
*/}}
{{- define "sora-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sora-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "sora-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sora-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The operator image: registry/repository, then @digest or :tag (default appVersion).
*/}}
{{- define "sora-operator.image" -}}
{{- $repository := .Values.image.repository }}
{{- if .Values.image.registry }}
{{- $repository = printf "%s/%s" .Values.image.registry .Values.image.repository }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
The documents of operator/sora_operator/rbac.yaml (files/rbac.yaml is a symlink to it),
as a list of objects: the single source of the operator's rights.
*/}}
{{- define "sora-operator.rbacDocuments" -}}
{{- $documents := list }}
{{- range $text := regexSplit "(?m)^---\\s*$" (.Files.Get "files/rbac.yaml") -1 }}
{{- $document := fromYaml $text }}
{{- if $document.kind }}
{{- $documents = append $documents $document }}
{{- end }}
{{- end }}
{{- if ne (len $documents) 2 }}
{{- fail "files/rbac.yaml must hold the operator's ClusterRole and leader-election Role" }}
{{- end }}
{{- toJson $documents }}
{{- end }}

{{/*
Resources that only exist cluster-wide: with watchNamespaces their rules stay in a
ClusterRole, every other rule moves into a Role per watched namespace.
*/}}
{{- define "sora-operator.clusterScopedResources" -}}
{{- toJson (list "customresourcedefinitions" "namespaces") }}
{{- end }}

{{/*
Rules of rbac.yaml's ClusterRole, split by scope: {"cluster": [...], "namespaced": [...]}.
A rule is cluster-scoped when every resource it names is.
*/}}
{{- define "sora-operator.splitRules" -}}
{{- $documents := include "sora-operator.rbacDocuments" . | fromJsonArray }}
{{- $clusterScoped := include "sora-operator.clusterScopedResources" . | fromJsonArray }}
{{- $cluster := list }}
{{- $namespaced := list }}
{{- range $document := $documents }}
{{- if eq $document.kind "ClusterRole" }}
{{- range $rule := $document.rules }}
{{- $isCluster := true }}
{{- range $resource := $rule.resources }}
{{- if not (has $resource $clusterScoped) }}
{{- $isCluster = false }}
{{- end }}
{{- end }}
{{- if $isCluster }}
{{- $cluster = append $cluster $rule }}
{{- else }}
{{- $namespaced = append $namespaced $rule }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson (dict "cluster" $cluster "namespaced" $namespaced) }}
{{- end }}

{{/*
Rules of a document in rbac.yaml by kind.
*/}}
{{- define "sora-operator.rulesOf" -}}
{{- $kind := index . 1 }}
{{- $rules := list }}
{{- range $document := include "sora-operator.rbacDocuments" (index . 0) | fromJsonArray }}
{{- if eq $document.kind $kind }}
{{- $rules = $document.rules }}
{{- end }}
{{- end }}
{{- toJson $rules }}
{{- end }}
