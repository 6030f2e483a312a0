{{/* Names, labels and the pod parts the web, scheduler and migration pods share. */}}

{{- define "reportgen.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "reportgen.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "reportgen.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "reportgen.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "reportgen.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "reportgen.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: reportgen
{{- end -}}

{{/* Selector labels of one component: call with (dict "root" $ "component" "web"). */}}
{{- define "reportgen.selectorLabels" -}}
app.kubernetes.io/name: {{ include "reportgen.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "reportgen.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "reportgen.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "reportgen.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret the REPORTGEN_* secret variables are read from. */}}
{{- define "reportgen.secretName" -}}
{{- if eq .Values.secrets.provider "existing" -}}
{{- required "secrets.existingSecret is required with secrets.provider=existing" .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-secrets" (include "reportgen.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Secret keys and the variables they become; the bool says whether the key may be absent. */}}
{{- define "reportgen.secretEnv" -}}
{{- $secret := include "reportgen.secretName" . -}}
{{- range $env, $spec := dict "REPORTGEN_DATABASE_URL" (list "database-url" false) "REPORTGEN_COOKIE_KEY" (list "cookie-key" false) "REPORTGEN_MASK_KEY" (list "mask-key" false) "REPORTGEN_AUDIT_KEY" (list "audit-key" false) "REPORTGEN_WAREHOUSE_PASSWORD" (list "warehouse-password" true) "REPORTGEN_SMTP_PASSWORD" (list "smtp-password" true) "REPORTGEN_WEBHOOK_KEY" (list "webhook-key" true) }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ index $spec 0 }}
      {{- if index $spec 1 }}
      optional: true
      {{- end }}
{{- end }}
{{- end -}}

{{/* Environment of every reportgen container. */}}
{{- define "reportgen.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "reportgen.fullname" . }}-config
env:
  # The read-only root filesystem leaves /tmp as the only home for caches (fontconfig, Chromium).
  - name: HOME
    value: /tmp
  - name: XDG_CACHE_HOME
    value: /tmp/.cache
  - name: REPORTGEN_DATA_DIR
    value: /app/var
{{- include "reportgen.secretEnv" . | nindent 2 }}
{{- end -}}

{{- define "reportgen.volumes" -}}
- name: data
  emptyDir:
    sizeLimit: {{ .Values.storage.dataSizeLimit }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.storage.tmpSizeLimit }}
- name: shm
  emptyDir:
    medium: Memory
    sizeLimit: {{ .Values.storage.shmSizeLimit }}
{{- if eq .Values.secrets.provider "csi" }}
- name: secrets-store
  csi:
    driver: secrets-store.csi.k8s.io
    readOnly: true
    volumeAttributes:
      secretProviderClass: {{ include "reportgen.fullname" . }}
{{- end }}
{{- end -}}

{{- define "reportgen.volumeMounts" -}}
- name: data
  mountPath: /app/var
- name: tmp
  mountPath: /tmp
- name: shm
  mountPath: /dev/shm
{{- if eq .Values.secrets.provider "csi" }}
# Mounting the CSI volume is what keeps the synced Secret in existence.
- name: secrets-store
  mountPath: /mnt/secrets-store
  readOnly: true
{{- end }}
{{- end -}}

{{/* Pod-level fields shared by all reportgen pods. */}}
{{- define "reportgen.podCommon" -}}
serviceAccountName: {{ include "reportgen.serviceAccountName" . }}
# AWS credentials come from the IRSA web-identity token, not from the Kubernetes API token.
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Spread replicas over zones and nodes: call with (dict "root" $ "component" "web"). */}}
{{- define "reportgen.spread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "reportgen.selectorLabels" . | nindent 8 }}
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "reportgen.selectorLabels" . | nindent 8 }}
{{- end -}}

{{/* Checkov skips that apply to every reportgen workload, with their reasons. */}}
{{- define "reportgen.checkovSkips" -}}
checkov.io/skip1: CKV_K8S_35=The app reads settings only from REPORTGEN_* environment variables (pydantic-settings); secrets come from a Secret via secretKeyRef and never appear in the manifest.
{{- if not .Values.image.digest }}
checkov.io/skip2: CKV_K8S_43=No digest is given in this values file; the deploy workflow always sets image.digest to the signed image it built.
{{- end }}
{{- end -}}
