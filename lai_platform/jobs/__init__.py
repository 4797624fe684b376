"""Running submissions: staging inputs, the pipeline, and the queues that drive it."""
