using System.Text.Json;
using Reference.UploadApi.Apis;

namespace Reference.UploadApi.Tests.Infrastructure;

/// <summary>Reads a text/event-stream response one event (or comment) at a time.</summary>
public sealed class EventStreamReader(Stream stream) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly StreamReader _reader = new(stream);

    /// <returns>The next status event, a comment (Comment set), or null when the stream ended.</returns>
    public async Task<ServerSentEvent?> NextAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        string? eventName = null;
        string? data = null;
        while (await _reader.ReadLineAsync(cancel.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (eventName is not null || data is not null)
                {
                    return new ServerSentEvent(eventName, data is null ? null : JsonSerializer.Deserialize<UploadResponse>(data, Json), null);
                }

                continue;
            }

            if (line.StartsWith(':'))
            {
                return new ServerSentEvent(null, null, line[1..].Trim());
            }

            if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                eventName = line["event:".Length..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data = line["data:".Length..].Trim();
            }
        }

        return null;
    }

    public void Dispose() => _reader.Dispose();
}

public sealed record ServerSentEvent(string? Event, UploadResponse? Upload, string? Comment);
