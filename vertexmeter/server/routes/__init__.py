"""The server's routes: Google's paths per API (vertex, gemini), the RPC handler (rpc) and operations (ops)."""
