using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Reference.Bench.Load;

public static partial class FixedRateLoad
{
    private sealed class ConnectionPool(IPEndPoint endpoint, int max) : IDisposable
    {
        private readonly ConcurrentStack<Connection> _idle = new();
        private readonly ConcurrentBag<Connection> _all = [];

        /// <summary>An idle connection, a new one, or null when <c>max</c> are all busy.</summary>
        public Connection? Take()
        {
            if (_idle.TryPop(out var connection))
            {
                return connection;
            }

            if (_all.Count >= max)
            {
                return null;
            }

            connection = new Connection(endpoint);
            _all.Add(connection);
            return connection;
        }

        public void Return(Connection connection) => _idle.Push(connection);

        public void Dispose()
        {
            foreach (var connection in _all)
            {
                connection.Dispose();
            }
        }
    }

    /// <summary>One keep-alive HTTP/1.1 connection: one request at a time, responses with Content-Length or chunked.</summary>
    private sealed class Connection : IDisposable
    {
        private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
        private readonly Socket _socket;
        private readonly byte[] _buffer = new byte[64 * 1024];

        public Connection(IPEndPoint endpoint)
        {
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            _socket.Connect(endpoint);
        }

        /// <summary>Sends a GET and reads its whole response; true for a 2xx.</summary>
        public async Task<bool> GetAsync(byte[] request)
        {
            await _socket.SendAsync(request, SocketFlags.None);
            var length = 0;
            while (true)
            {
                if (length == _buffer.Length)
                {
                    throw new InvalidDataException("Response larger than the driver's buffer.");
                }

                var read = await _socket.ReceiveAsync(_buffer.AsMemory(length), SocketFlags.None);
                if (read == 0)
                {
                    throw new IOException("Connection closed mid-response.");
                }

                length += read;
                if (Complete(_buffer.AsSpan(0, length)) is { } status)
                {
                    return status is >= 200 and < 300;
                }
            }
        }

        /// <summary>The status code once the response in <paramref name="data"/> is complete, else null.</summary>
        private static int? Complete(ReadOnlySpan<byte> data)
        {
            var headerEnd = data.IndexOf(HeaderEnd);
            if (headerEnd < 0)
            {
                return null;
            }

            var headers = Encoding.ASCII.GetString(data[..headerEnd]);
            var status = int.Parse(headers.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
            var body = data[(headerEnd + 4)..];
            foreach (var line in headers.Split("\r\n"))
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                {
                    return body.Length >= int.Parse(line.AsSpan(15).Trim(), System.Globalization.CultureInfo.InvariantCulture) ? status : null;
                }

                if (line.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase) && line.Contains("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    return ChunkedComplete(body) ? status : null;
                }
            }

            return status; // no body (e.g. 304)
        }

        private static bool ChunkedComplete(ReadOnlySpan<byte> body)
        {
            while (true)
            {
                var lineEnd = body.IndexOf("\r\n"u8);
                if (lineEnd < 0)
                {
                    return false;
                }

                var size = Convert.ToInt32(Encoding.ASCII.GetString(body[..lineEnd]).Split(';')[0].Trim(), 16);
                var next = lineEnd + 2 + size + 2;
                if (body.Length < next)
                {
                    return false;
                }

                if (size == 0)
                {
                    return true;
                }

                body = body[next..];
            }
        }

        public void Dispose() => _socket.Dispose();
    }
}
