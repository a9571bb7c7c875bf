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

/// <summary>A database on a MySQL-compatible server, created when the server is ready.</summary>
public sealed class MySqlDatabaseResource(string name, string databaseName, IResourceWithConnectionString server)
    : Resource(name), IResourceWithParent<IResourceWithConnectionString>, IResourceWithConnectionString
{
    public string DatabaseName { get; } = databaseName;

    public IResourceWithConnectionString Parent { get; } = server;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}

/// <summary>MySQL 8.4 in a container (container mode).</summary>
public sealed class MySqlContainerResource(string name, ParameterResource password)
    : ContainerResource(name), IResourceWithConnectionString
{
    public ParameterResource Password { get; } = password;

    public ReferenceExpression ConnectionStringExpression
    {
        get
        {
            var endpoint = new EndpointReference(this, "tcp");
            return ReferenceExpression.Create(
                $"Server={endpoint.Property(EndpointProperty.Host)};Port={endpoint.Property(EndpointProperty.Port)};User ID=root;Password={Password}");
        }
    }
}
