using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Reference.Gateway.Tests.Support;

/// <summary>
/// Sends a request line exactly as written. HttpClient (System.Uri) would resolve <c>..</c> and
/// re-encode the path before it leaves the test, hiding what an attacker can really send.
/// </summary>
public static class RawHttp
{
    public static async Task<(int Status, string Response)> GetAsync(Uri server, string rawPath)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, server.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {rawPath} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var response = new StringBuilder();
        var buffer = new byte[8192];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0)
        {
            response.Append(Encoding.Latin1.GetString(buffer, 0, read));
        }

        var text = response.ToString();
        return (int.Parse(text.AsSpan(9, 3)), text);
    }
}
