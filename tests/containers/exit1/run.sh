echo "starting"
echo "Traceback: something went wrong" >&2
exit 1
