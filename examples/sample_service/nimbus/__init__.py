"""nimbus: a sample OpenStack-style service with planted hazards."""
