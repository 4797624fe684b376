# One constant prediction per case listed in /input/cases.json (the "ok" algorithm; other
# test images run it after doing something else first). Copied into every test image.
set -e
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
