"""Operations: health checks, Prometheus metrics, the workers table and log context."""
