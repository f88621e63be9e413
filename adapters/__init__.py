"""The official SDK's streaming interface (`MessageStream`, managers, `Stream`) over rxstream."""
