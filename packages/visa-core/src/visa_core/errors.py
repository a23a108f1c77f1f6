"""Exceptions raised across the VISA packages.

Every error names what the user supplied (a file, a component name, an option) and what is wrong
with it, so it can be acted on without reading a traceback.
"""

from __future__ import annotations


class VisaError(Exception):
    """Base class of every error raised by the VISA packages."""


class PluginConflictError(VisaError):
    """Two plugins registered a component of the same kind under the same name."""


class UnknownComponentError(VisaError, KeyError):
    """A component name that no installed plugin registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ComponentOptionError(VisaError, TypeError):
    """An option that a component's ``Config`` does not have, or a bad option value."""


class VideoDecodeError(VisaError):
    """A video or a frame that cannot be found or decoded."""


class DataFormatError(VisaError):
    """A dataset file that does not follow its published format."""


class CheckpointError(VisaError):
    """A checkpoint that is missing, of the wrong format, or whose keys do not match."""


class OutputFolderError(VisaError):
    """An output path that cannot be used: a file, read-only, or holding files this run did not write."""


class ManifestMismatchError(OutputFolderError):
    """An output folder holding a run made with other settings (the message names the fields)."""


class QueryError(VisaError, ValueError):
    """A query the model cannot answer: empty, or longer than the language model's context."""


class PluginLoadError(VisaError):
    """An installed plugin that failed to import or to register its components."""
