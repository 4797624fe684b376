# A well-behaved organizer evaluation: reads both inputs, writes /output/metrics.json.
# The sandbox checks are reported as extra metrics (1 = as expected) for the test to assert.
set -e
n_cases=$(($(wc -l < /input/ground_truth.csv) - 1))  # minus the header line
if grep -q '"predictions"' /input/predictions.json; then read_predictions=1; else read_predictions=0; fi
if touch /input/probe 2> /dev/null; then input_read_only=0; else input_read_only=1; fi
input_files=$(ls -A /input | wc -l)
interfaces=$(ls /sys/class/net | grep -v '^lo$' | wc -l)
if [ "$interfaces" -eq 0 ] && ! nc -w 2 198.51.100.1 80 < /dev/null 2> /dev/null; then
  no_network=1
else
  no_network=0
fi
printf '{"n_cases": %d, "metrics": {"auc": 0.75, ' "$n_cases" > /tmp/metrics.json
printf '"custom_score": {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6}, ' >> /tmp/metrics.json
printf '"read_predictions": %d, "input_read_only": %d, "input_files": %d, ' \
  "$read_predictions" "$input_read_only" "$input_files" >> /tmp/metrics.json
printf '"no_network": %d, "uid": %d}}\n' "$no_network" "$(id -u)" >> /tmp/metrics.json
cp /tmp/metrics.json /output/metrics.json
echo "evaluated $n_cases cases"
