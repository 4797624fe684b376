# The "ok" algorithm after 15 s of work: a run long enough to break something mid-run.
set -e
sleep 15
exec /bin/sh /predict.sh
