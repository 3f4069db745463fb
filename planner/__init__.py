"""Police event deployment planning: the domain (no framework imports)."""
