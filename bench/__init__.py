"""Load generators and benchmark scripts (loopback only). Not timed tests."""
