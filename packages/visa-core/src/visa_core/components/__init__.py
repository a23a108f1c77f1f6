"""The components visa-core ships, so that the pipeline's defaults need no other package: the
``uniform`` frame selector and the ``seg_token`` propagator (both need only the VISA model)."""
