# Writes to /tmp first, then predictions like the "ok" image.
set -e
echo "scratch space works" > /tmp/scratch.txt
cat /tmp/scratch.txt
ids=$(sed 's/"[^"]*"[[:space:]]*://g' /input/cases.json | grep -o '"[^"]*"' | tr -d '"')
printf '{"predictions": [' > /tmp/predictions.json
sep=""
for id in $ids; do
  printf '%s{"case_id": "%s", "malignant_probability": 0.5, "diagnosis_probabilities": {"HCC": 0.2, "iCCA": 0.1, "metastasis": 0.1, "adenoma": 0.2, "FNH": 0.2, "haemangioma": 0.2}}' "$sep" "$id" >> /tmp/predictions.json
  sep=", "
done
printf ']}\n' >> /tmp/predictions.json
cp /tmp/predictions.json /output/predictions.json
