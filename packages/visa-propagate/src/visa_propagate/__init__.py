"""visa-propagate: components registered with the `visa` plugin system."""
