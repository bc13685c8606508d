"""The banks and the provident-fund centre of the sandbox: loans and collection-account statements.

`ensure_bank_world(world_path)` derives the banks' face of the world (`world`); `start_bank_servers`
runs one signed loan-progress API per bank, the fund centre's daily loan list, and the statement files.
"""
