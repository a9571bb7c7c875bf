using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Reference.UploadApi.Operations;

/// <summary>
/// The pipeline's queues as RabbitMQ's management API reports them (depths, consumers, rates, the age of the
/// oldest waiting message), and the two things an operator does to an <c>_error</c> queue: move its
/// messages back to the queue they failed in, or drop them. Reads go over HTTP as the monitoring user; moves
/// and purges over AMQP as the operator user, one message at a time and acknowledged only once republished,
/// so a failure halfway loses nothing.
/// </summary>
public sealed class RabbitMqQueues(HttpClient http, IOptions<OperationsOptions> options, IConfiguration configuration, TimeProvider clock)
{
    public const string ErrorSuffix = "_error";

    private Uri Amqp => new(configuration.GetConnectionString(MessagingServices.ConnectionName)
        ?? throw new InvalidOperationException($"ConnectionStrings:{MessagingServices.ConnectionName} is not set."));

    public bool IsConfigured => Management is not null;

    /// <summary>Whether the operator broker user, the only one allowed to take from or purge an <c>_error</c> queue, is configured.</summary>
    public bool CanOperate => configuration.GetConnectionString(OperationsOptions.OperatorConnectionName) is { Length: > 0 };

    // The error-queue actions run as `operator` (AppHost/LocalServers/rabbitmq-definitions.sh): read on the _error
    // queues and write on the default exchange only. UploadApi's own user has neither.
    private Uri Operator => new(configuration.GetConnectionString(OperationsOptions.OperatorConnectionName)
        ?? throw new InvalidOperationException($"ConnectionStrings:{OperationsOptions.OperatorConnectionName} is not set."));

    // The monitoring user's connection string is the management API's URL with its credentials in it.
    private Uri? Management => (options.Value.RabbitMqManagementUrl ?? configuration.GetConnectionString(OperationsOptions.ManagementConnectionName))
        is { } url ? new Uri(url) : null;

    private string? ManagementUrl => Management is { } uri ? new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString() : null;

    private string VirtualHost => Uri.UnescapeDataString(Amqp.AbsolutePath.Trim('/')) is { Length: > 0 } vhost ? vhost : "/";

    public async Task<IReadOnlyList<QueueView>> ListAsync(CancellationToken cancellationToken)
    {
        if (ManagementUrl is not { } baseUrl)
        {
            return [];
        }

        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"{baseUrl.TrimEnd('/')}/api/queues/{Uri.EscapeDataString(VirtualHost)}?columns=name,durable,auto_delete,exclusive,messages_ready,messages_unacknowledged,consumers,head_message_timestamp,message_stats.publish_details.rate,message_stats.deliver_get_details.rate,message_stats.ack_details.rate");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Credentials())));
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var queues = await response.Content.ReadFromJsonAsync<List<ManagementQueue>>(cancellationToken) ?? [];
        var now = clock.GetUtcNow();
        // Durable queues only: MassTransit's per-process reply queues come and go and are nobody's backlog.
        return queues.Where(q => q.Durable && !q.AutoDelete && !q.Exclusive)
            .Select(q => new QueueView(
                q.Name,
                q.Name.EndsWith(ErrorSuffix, StringComparison.Ordinal),
                q.MessagesReady,
                q.MessagesUnacknowledged,
                q.Consumers,
                Math.Round(q.MessageStats?.PublishDetails?.Rate ?? 0, 2),
                Math.Round(q.MessageStats?.DeliverGetDetails?.Rate ?? 0, 2),
                q.HeadMessageTimestamp is { } head && q.MessagesReady > 0
                    ? Math.Max(0, Math.Round((now - DateTimeOffset.FromUnixTimeSeconds(head)).TotalSeconds, 1))
                    : null))
            .OrderBy(q => q.IsErrorQueue).ThenBy(q => q.Name)
            .ToList();
    }

    /// <summary>Moves every message of <paramref name="errorQueue"/> back to its source queue; null when there is no such error queue.</summary>
    public async Task<int?> RedriveAsync(string errorQueue, CancellationToken cancellationToken)
    {
        if (!errorQueue.EndsWith(ErrorSuffix, StringComparison.Ordinal))
        {
            return null;
        }

        var source = errorQueue[..^ErrorSuffix.Length];
        await using var connection = await new ConnectionFactory { Uri = Operator, ClientProvidedName = "uploadapi-ops" }.CreateConnectionAsync(cancellationToken);
        if (!await ExistsAsync(connection, errorQueue, cancellationToken) || !await ExistsAsync(connection, source, cancellationToken))
        {
            return null;
        }

        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        var moved = 0;
        while (await channel.BasicGetAsync(errorQueue, autoAck: false, cancellationToken) is { } message)
        {
            var properties = new BasicProperties(message.BasicProperties);
            await channel.BasicPublishAsync("", source, mandatory: true, properties, message.Body, cancellationToken);
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken);
            moved++;
        }

        return moved;
    }

    /// <summary>Drops every message of <paramref name="errorQueue"/>; the count dropped, or null when there is no such error queue.</summary>
    public async Task<int?> PurgeAsync(string errorQueue, CancellationToken cancellationToken)
    {
        if (!errorQueue.EndsWith(ErrorSuffix, StringComparison.Ordinal))
        {
            return null;
        }

        await using var connection = await new ConnectionFactory { Uri = Operator, ClientProvidedName = "uploadapi-ops" }.CreateConnectionAsync(cancellationToken);
        if (!await ExistsAsync(connection, errorQueue, cancellationToken))
        {
            return null;
        }

        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        return (int)await channel.QueuePurgeAsync(errorQueue, cancellationToken);
    }

    private static async Task<bool> ExistsAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        // A passive declare of a missing queue closes its channel: one channel per question.
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            return true;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
    }

    private string Credentials()
    {
        if (options.Value.RabbitMqManagementUser is { Length: > 0 } user)
        {
            return $"{user}:{options.Value.RabbitMqManagementPassword}";
        }

        // Else the monitoring user in the management URL, else the service's own broker user.
        var userInfo = (Management?.UserInfo is { Length: > 0 } inUrl ? inUrl : Amqp.UserInfo).Split(':', 2);
        return $"{WebUtility.UrlDecode(userInfo[0])}:{(userInfo.Length > 1 ? WebUtility.UrlDecode(userInfo[1]) : "")}";
    }

    private sealed record ManagementQueue(
        string Name,
        bool Durable,
        [property: JsonPropertyName("auto_delete")] bool AutoDelete,
        bool Exclusive,
        [property: JsonPropertyName("messages_ready")] long MessagesReady,
        [property: JsonPropertyName("messages_unacknowledged")] long MessagesUnacknowledged,
        int Consumers,
        [property: JsonPropertyName("head_message_timestamp")] long? HeadMessageTimestamp,
        [property: JsonPropertyName("message_stats")] MessageStats? MessageStats);

    private sealed record MessageStats(
        [property: JsonPropertyName("publish_details")] RateDetails? PublishDetails,
        [property: JsonPropertyName("deliver_get_details")] RateDetails? DeliverGetDetails);

    private sealed record RateDetails(double Rate);
}

/// <param name="OldestAgeSeconds">Age of the message at the head of the queue, when RabbitMQ knows it (the message carries a timestamp).</param>
public sealed record QueueView(
    string Name, bool IsErrorQueue, long Ready, long Unacknowledged, int Consumers, double PublishRate, double DeliverRate, double? OldestAgeSeconds);
