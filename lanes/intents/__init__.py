"""Gateway intent kinds and the gateway model they make: one module per kind (egress, mapping,
ingress, exposure, proxy), their table (``kinds``), what they share (``base``) and the model
(``gateway``).

Each kind module holds its kind's derivation into NAT or proxy entries, its nftables and nginx
contributions, its rules and its lab flows, behind ``IntentKind`` (``lanes.intents.base``); its
config model is written out in ``lanes.config.gateway``. Adding a kind is a module, its config
keys there and a row of ``lanes.intents.kinds.INTENT_KINDS``.
"""
