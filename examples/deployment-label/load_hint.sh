#!/bin/sh
# load_hint.py for images without Python (the adapter's own image has /bin/sh and nothing else to run scripts
# with): prints the value of the described Deployment's label named by $1, or nothing without it.
#
# No JSON parser is needed because of what the adapter guarantees about the document: compact JSON, `object`
# as it came from the Kubernetes API with its field order kept, so metadata (and its labels, before annotations)
# comes before spec; label keys and values never hold quotes, braces or backslashes. Escaped JSON inside an
# annotation (\"spec\":...) does not match the unescaped patterns below.
set -eu
key="$1"
document=$(cat)
object=${document#*\"object\":\{}
metadata=${object#*\"metadata\":\{}
metadata=${metadata%%\"spec\":*}
case $metadata in
  *\"labels\":\{*) ;;
  *) exit 0 ;;
esac
labels=${metadata#*\"labels\":\{}
labels=${labels%%\}*}
case $labels in
  *\"$key\":\"*) ;;
  *) exit 0 ;;
esac
value=${labels#*\"$key\":\"}
printf '%s\n' "${value%%\"*}"
