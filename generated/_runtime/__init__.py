# Vendored by `moosegen build` from moosegen.runtime into the output tree. DO NOT EDIT the copy.
"""The consumer-service runtime shared by every generated stream service."""
