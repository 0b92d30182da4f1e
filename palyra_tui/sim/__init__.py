"""The reference gateway: a stand-in for palyrad, palyra-browserd and the node host.

It is not Palyra (its health ``service`` says ``palyra-tui-sim``), but it keeps
palyrad's contract: flags, environment, metadata and console auth, error
codes, the RunStream conversation and JSON log lines.  Tests and ``palyra-tui demo`` run against it,
so code written against it works against palyrad.
"""
