import { Controller, Get, HttpException } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthService } from '@pixmill/health';
import { ApiProblems } from '../common/api-problems.decorator';
import { Public } from '../common/public.decorator';

class LiveDto {
  @ApiProperty({ example: 'ok' }) status: 'ok';
}
class ReadyDto {
  @ApiProperty({ example: 'ok' }) status: 'ok';
  @ApiProperty({ example: { postgres: 'up', redis: 'up', storage: 'up' } }) checks: Record<string, string>;
}

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiResponse({ status: 200, type: LiveDto })
  live(): LiveDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: PostgreSQL, Redis and storage reachable', description: '503 names the dependencies that are down in `checks`.' })
  @ApiResponse({ status: 200, type: ReadyDto })
  @ApiProblems(['unavailable', 'a dependency is down; `checks` says which'])
  async ready(): Promise<ReadyDto> {
    const checks = await this.health.check();
    const down = Object.entries(checks).filter(([, s]) => s === 'down').map(([n]) => n);
    if (down.length) {
      throw new HttpException({ message: `Not ready: ${down.join(', ')} down.`, code: 'unavailable', extra: { checks } }, 503);
    }
    return { status: 'ok', checks };
  }
}
