"""The banks and the provident-fund centre in the warehouse: loans with their stage history and contract
link, collection-account statement lines with their file registry. See `loans`, `statements`, `sync`.
"""
