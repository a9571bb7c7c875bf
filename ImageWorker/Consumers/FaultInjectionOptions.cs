namespace Reference.ImageWorker.Consumers;

/// <summary>
/// The <c>ImageWorker:FaultInjection</c> section: off unless set, and set only by the reliability
/// tests. A job for <see cref="CrashOnProductId"/> ends the process at once, as a decoder bug or an
/// out-of-memory kill would, so the tests can prove the poison guard (<see cref="ProcessingAttempts"/>)
/// and the supervisor's restarts with a crash that happens every time, on purpose. A job for
/// <see cref="HangOnProductId"/> never finishes once started, so a test can kill a worker that is
/// certainly mid-job.
/// </summary>
public sealed class FaultInjectionOptions
{
    public const string SectionName = "ImageWorker:FaultInjection";

    public Guid? CrashOnProductId { get; set; }

    public Guid? HangOnProductId { get; set; }
}
