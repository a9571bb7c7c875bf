namespace Reference.UploadApi.Operations;

/// <summary>
/// The <c>Operations</c> section. RabbitMQ's management API is read with <see cref="RabbitMqManagementUrl"/>
/// (or <c>ConnectionStrings:messaging-monitor</c>) and, unless a monitoring user is set here, with the
/// credentials of the <c>messaging</c> connection string.
/// </summary>
public sealed class OperationsOptions
{
    public const string Section = "Operations";
    public const string ManagementConnectionName = "messaging-monitor";

    /// <summary>The broker user of the <c>_error</c> queues' re-drive and purge (<c>operator</c>), as an AMQP URI.</summary>
    public const string OperatorConnectionName = "messaging-operator";

    /// <summary>e.g. <c>http://127.0.0.1:15672</c>; without it the console shows no queues (everything else works).</summary>
    public string? RabbitMqManagementUrl { get; set; }

    public string? RabbitMqManagementUser { get; set; }

    public string? RabbitMqManagementPassword { get; set; }

    /// <summary>How often the console's live stream sends a new picture.</summary>
    public TimeSpan StreamInterval { get; set; } = TimeSpan.FromSeconds(2);
}
