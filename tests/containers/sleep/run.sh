# Outlives any test time limit.
echo "sleeping"
sleep 600
