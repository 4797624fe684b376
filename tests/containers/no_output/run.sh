echo "done, but forgot to write /output/predictions.json"
exit 0
