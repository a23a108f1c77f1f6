"""visa-frame-select: components registered with the `visa` plugin system."""
