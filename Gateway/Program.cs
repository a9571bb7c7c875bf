using Reference.Gateway.Apis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.UseFrontDoor();
app.MapImages();
app.UseStorefront();
app.MapDefaultEndpoints();
app.MapGatewayLoadApi();
app.MapBackendProxy();
app.Run();

public partial class Program;
