"""Support SLA: cases from every channel, first-response and resolution clocks, published compliance."""
