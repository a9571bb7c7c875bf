using System.Net;
using System.Net.Sockets;

namespace Reference.Tests.Support;

public static class Loopback
{
    /// <summary>A port nothing listens on right now (the OS's choice), for a server a test starts.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
