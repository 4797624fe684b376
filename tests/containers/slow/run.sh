# The "ok" algorithm after 15 s of work: a run long enough to break something mid-run.
set -e
sleep 15  # long enough to break something mid-run
# cases.json is a JSON list of ids; drop any "key": so {"case_ids": [...]} also works.
ids=$(sed 's/"[^"]*"[[:space:]]*://g' /input/cases.json | grep -o '"[^"]*"' | tr -d '"')
out=/tmp/predictions.json
printf '{"predictions": [' > "$out"
sep=""
for id in $ids; do
  printf '%s{"case_id": "%s", "malignant_probability": 0.5, "diagnosis_probabilities": {"HCC": 0.2, "iCCA": 0.1, "metastasis": 0.1, "adenoma": 0.2, "FNH": 0.2, "haemangioma": 0.2}}' "$sep" "$id" >> "$out"
  sep=", "
done
printf ']}\n' >> "$out"
cp "$out" /output/predictions.json
echo "wrote predictions for $(echo $ids | wc -w) cases"
