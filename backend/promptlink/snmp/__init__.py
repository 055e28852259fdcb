"""SNMP trap intake: the pysnmp receiver, trap decoding, alarm rules and counters."""
