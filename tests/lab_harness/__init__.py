"""Lab harness for lvs.cluster: Debian guests with an IPVS kernel under qemu."""
