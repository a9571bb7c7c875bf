using System.Net;
using System.Net.Sockets;

namespace Reference.Gateway.Tests.Support;

/// <summary>
/// A TCP relay on loopback to a real server that closes each connection once it has passed
/// <c>breakAfterBytes</c> of the server's answer: a server that goes away mid-response, on demand.
/// </summary>
public sealed class BreakingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Uri _upstream;
    private readonly int _breakAfterBytes;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _breaks;

    public BreakingRelay(Uri upstream, int breakAfterBytes)
    {
        _upstream = upstream;
        _breakAfterBytes = breakAfterBytes;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Connections closed mid-answer so far.</summary>
    public int Breaks => Volatile.Read(ref _breaks);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
                var requests = client.GetStream().CopyToAsync(server.GetStream(), _stop.Token);
                var answer = new byte[8192];
                var passed = 0;
                int read;
                while ((read = await server.GetStream().ReadAsync(answer, _stop.Token)) > 0)
                {
                    var allowed = Math.Min(read, _breakAfterBytes - passed);
                    await client.GetStream().WriteAsync(answer.AsMemory(0, allowed), _stop.Token);
                    passed += allowed;
                    if (passed >= _breakAfterBytes)
                    {
                        Interlocked.Increment(ref _breaks);
                        client.Client.LingerState = new LingerOption(true, 0); // a reset, as from a server that died
                        return;
                    }
                }

                await requests;
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // Either side went away: the relay ends with it.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
