"""The RADIUS server: VPNs, gateways and Wi-Fi controllers ask Twostep over UDP 1812."""
