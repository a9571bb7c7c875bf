namespace Reference.Contracts;

/// <summary>Where every service answers its health, for the AppHost, the gateway and container health checks.</summary>
public static class HealthEndpoints
{
    /// <summary>Readiness: the service and what it depends on answer.</summary>
    public const string HealthPath = "/health";

    /// <summary>Liveness: the process answers.</summary>
    public const string AlivePath = "/alive";
}
