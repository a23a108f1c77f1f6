"""Loading the published VISA / LISA / Chat-UniVi / SAM / CLIP checkpoints into our format."""

from visa_core.model.checkpoints.convert import ConversionResult, convert_checkpoint

__all__ = ["ConversionResult", "convert_checkpoint"]
