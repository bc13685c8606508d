"""The sandbox: one deterministic simulated world and the loopback servers that show its faces.

`sandbox.world` generates the world (the ground truth); each server package reads it and plays one
outside system. Nothing here is imported by the hub's production code.
"""
