# Writes its input predictions back as metrics.json: tests choose the metrics file's content.
cp /input/predictions.json /output/metrics.json
exit 0
