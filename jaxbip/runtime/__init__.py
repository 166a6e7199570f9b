"""What runs the method on devices and disks: mesh and sharding, multi-process
start-up, preemption, checkpoints, logging, platform defaults, batching."""
