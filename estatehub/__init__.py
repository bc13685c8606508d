"""estatehub: the data hub of a property developer's customer service department."""

__version__ = "0.1.0"
