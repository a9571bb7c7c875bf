namespace Reference.AppHost.Backing;

/// <summary>
/// A backing server run as a plain child process through its start script in
/// <c>AppHost/LocalServers</c> (local mode). Its connection string has the same shape as the
/// container it stands in for, so services cannot tell the two modes apart.
/// </summary>
public sealed class LocalServerResource(
    string name, string workingDirectory, Func<EndpointReference, ReferenceExpression> connectionString)
    : ExecutableResource(name, "/bin/sh", workingDirectory), IResourceWithConnectionString
{
    public const string PrimaryEndpoint = "tcp";

    public EndpointReference Endpoint => new(this, PrimaryEndpoint);

    public ReferenceExpression ConnectionStringExpression => connectionString(Endpoint);
}

/// <summary>
/// A service's own login on a backing server (a database user, a Redis ACL user, a RabbitMQ user):
/// its connection string, under the server in the dashboard.
/// </summary>
public sealed class ServiceLoginResource(string name, IResourceWithConnectionString server, ReferenceExpression connectionString)
    : Resource(name), IResourceWithParent<IResourceWithConnectionString>, IResourceWithConnectionString
{
    public IResourceWithConnectionString Parent { get; } = server;

    public ReferenceExpression ConnectionStringExpression { get; } = connectionString;
}

/// <summary>A backing server in a container (container mode); its connection string is the administrator's.</summary>
public sealed class BackingContainerResource(string name, Func<EndpointReference, ReferenceExpression> connectionString)
    : ContainerResource(name), IResourceWithConnectionString
{
    public const string PrimaryEndpoint = "tcp";

    public EndpointReference Endpoint => new(this, PrimaryEndpoint);

    public ReferenceExpression ConnectionStringExpression => connectionString(Endpoint);
}
