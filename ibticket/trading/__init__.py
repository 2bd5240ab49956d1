"""Trading without Qt: the session with the broker, the order desk every order goes through, the order-line
grammar, precautions, the connection choice, chart data and number formats. Only ibticket.gui imports Qt."""
