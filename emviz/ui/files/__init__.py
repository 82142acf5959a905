"""Opening files off the GUI thread and saving and opening .emviz sessions."""
