"""The ``visa`` command line: sub-commands are components of kind ``command``."""
